"""Reading the markings off a photo with Tesseract: the script and language sets
(scripts), the engines (engine), the images a careful reader would try (preparing), where
the text is when no box is given (regions), many passes' readings made into ranked
hypotheses per line (combining), the reader itself (reader), and identification of the
item from what was read and how the photo looks (identifying)."""
