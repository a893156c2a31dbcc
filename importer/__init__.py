"""simkl-import: move a whole watch history into Simkl, safely and repeatably."""

__version__ = "0.1.0"
__all__ = ["__version__"]
