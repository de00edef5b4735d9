"""
Tag short texts with several topics: TfidfVectorizer + MultiLabelBinarizer
==========================================================================

Run it as::

    python examples/text_tagging.py [--fast]
"""

import argparse

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from sklearn_mlk import KerasMultiLabelClassifier

TRAIN = [
    ("the striker scored twice in the cup final", {"sport"}),
    ("parliament passes the budget after a long debate", {"politics"}),
    ("the new laptop chip is twice as fast", {"tech"}),
    ("minister unveils plan to regulate ai startups", {"politics", "tech"}),
    ("club signs a sponsorship deal with a phone maker", {"sport", "tech"}),
    ("election debate focuses on sports funding", {"politics", "sport"}),
    ("goalkeeper saves a penalty in extra time", {"sport"}),
    ("senate committee questions social network bosses", {"politics", "tech"}),
    ("streaming service buys rights to the football league", {"sport", "tech"}),
    ("government announces new tax on fuel", {"politics"}),
    ("software update fixes battery drain on phones", {"tech"}),
    ("coach resigns after the team loses the derby", {"sport"}),
]
TEST = [
    "phone maker sponsors the cup final",
    "parliament debates a tax on ai companies",
    "the team wins the league",
]


def main(fast=False):
    texts, tags = zip(*TRAIN)
    mlb = MultiLabelBinarizer()
    Y = mlb.fit_transform(tags)
    model = make_pipeline(
        TfidfVectorizer(),
        KerasMultiLabelClassifier(
            hidden_layer_sizes=(32,), epochs=20 if fast else 200,
            learning_rate=0.01, random_state=0,
        ),
    )
    model.fit(texts, Y)
    print(f"training micro-F1: {f1_score(Y, model.predict(texts), average='micro'):.2f}")
    for text, labels in zip(TEST, mlb.inverse_transform(model.predict(TEST))):
        print(f"{text!r:45} -> {sorted(labels)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="few epochs, for tests")
    main(parser.parse_args().fast)
