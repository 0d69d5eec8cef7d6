// ImageBuilder target.
