"""FSx: Windows, Lustre, OpenZFS and ONTAP file systems."""
