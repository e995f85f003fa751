"""Computers' disk images as a source container (issue 15): EWF, raw/dd (split too), VMDK, VHD/VHDX and QCOW,
read through dfVFS (plaso's layer, over the libyal bindings) down to the partitions (MBR, GPT) and their file
systems, which The Sleuth Kit (pytsk3) walks, deleted entries included.

``sniff`` recognises an image by its first bytes without importing dfVFS (an optional extra, ``disk``); ``image``
opens it, verifies it and lists its volumes; ``walk`` yields every file of a file system with its place;
``storing`` decides which files' bytes are kept in the vault; ``ewf_salvage`` reads an E01 libewf cannot (cut short,
its chunk tables lost) chunk by chunk. Intake (stages/intake.py) drives them.
"""
