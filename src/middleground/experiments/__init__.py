"""One module per chapter, named as the chapter's file: the experiments the chapter runs.

Each function takes plain parameters and returns plain records, so the chapter only plots and the
tests run the very code the book shows. Chapters with no experiment of their own (``questions``,
``reproduce``) have no module here.
"""
