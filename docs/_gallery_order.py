"""Order of the examples in the gallery: a newcomer's path, not the alphabet."""

ORDER = [
    "plot_quickstart.py",
    "plot_own_csv.py",
    "plot_history.py",
    "plot_transfer.py",
    "plot_pipeline.py",
    "plot_graphormer.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    Parameters
    ----------
    src_dir : str or path-like
        The examples folder (sphinx-gallery passes it; unused).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        # Examples missing from ORDER come last, alphabetically.
        return (ORDER.index(filename), "") if filename in ORDER else (len(ORDER), filename)

    def __repr__(self):
        # sphinx-gallery hashes the configuration by repr: keep it stable.
        return "ExampleOrder"
