"""Documents and pictures of paper: what kind of document a content is (``kinds``), its text lines
(``extract``), the bounds on hostile documents (``limits``) and the lines' shape as stored (``lines``)."""
