"""EC2: instances and what they leave behind (images, snapshots, volumes, addresses, keys, groups), and the networks they run in."""
