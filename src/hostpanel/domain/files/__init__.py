"""Files in an account's home: lexical paths, the confinement point, staging, and Fileman's operations."""
