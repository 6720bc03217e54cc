import dojobber


def test_version():
    assert dojobber.__version__ == "1.0.0"
