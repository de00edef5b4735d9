"""Small multi-label data sets built from data that ships with scikit-learn."""

import numpy as np
from sklearn.datasets import load_digits

DIGIT_PROPERTIES = {
    "even": {0, 2, 4, 6, 8},
    "prime": {2, 3, 5, 7},
    "five_or_more": {5, 6, 7, 8, 9},
    "closed_loop": {0, 4, 6, 8, 9},
    "straight_strokes": {1, 4, 7},
}


def load_digit_properties():
    """Digit images labelled with every property of their digit.

    Built from scikit-learn's bundled digits (no download). The labels are
    "even", "prime", "five_or_more", "closed_loop" and "straight_strokes"; an
    image carries 2.2 of them on average.

    Returns
    -------
    X : ndarray of shape (1797, 64)
        Pixel intensities (0-16) of the 8x8 images.
    Y : ndarray of shape (1797, 5)
        0/1 label indicator.
    names : list of str
        Label names, in column order.
    """
    digits = load_digits()
    names = list(DIGIT_PROPERTIES)
    Y = np.array(
        [[int(d in DIGIT_PROPERTIES[name]) for name in names] for d in digits.target]
    )
    return digits.data, Y, names
