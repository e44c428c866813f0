"""nutshell: an executable companion to "Deep Learning in a Nutshell: History and Training".

Every concept of the article is a page in ``docs/`` paired with a module here, e.g.
``nutshell.training.sgd``. Importing a module defines things and runs nothing.
"""

__version__ = "0.1.0"
