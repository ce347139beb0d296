"""Data in: the dataset folder format, any image folder, labeled data for simulations, PNG
encoding, the torch Dataset, recipes, previews and the shortcut audit."""
