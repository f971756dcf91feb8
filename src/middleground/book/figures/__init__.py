"""The book's figures, one module per chapter, named as the chapter: each function takes that
chapter's experiment result and returns a finished Altair chart (:func:`..charts.finish`). The
chapter calls them; they compute nothing the prose states."""
