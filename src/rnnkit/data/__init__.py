"""Reading files and preparing series, windows, scalers and text."""
