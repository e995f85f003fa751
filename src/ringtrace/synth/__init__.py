"""The synthetic operation: invented people, groups, chats, benign generated images and captured pages, written
in the real evidence formats, with ``ground-truth.json`` saying what a perfect analysis must find."""
