from costcutter.cli import main

main()
