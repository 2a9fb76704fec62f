"""tlkit.claims.claim: prints a machine-independent line, fails loudly with the measurement."""

import numpy as np
import pytest

from tlkit.claims import ClaimFailed, claim


def test_a_claim_that_holds_prints_the_statement_without_numbers(capsys) -> None:
    claim("transfer wins on at least 4 of 5 seeds", 5 >= 4, measured="5 of 5")
    assert capsys.readouterr().out == "claim holds: transfer wins on at least 4 of 5 seeds\n"


def test_a_numpy_bool_is_accepted(capsys) -> None:
    claim("the mean is positive", np.float32(0.3) > 0)
    assert "claim holds" in capsys.readouterr().out


def test_a_claim_that_fails_raises_with_what_was_measured() -> None:
    with pytest.raises(ClaimFailed, match=r"claim does not hold: gap >= 2 points \(measured: \+0.4 points\)"):
        claim("gap >= 2 points", False, measured="+0.4 points")


@pytest.mark.parametrize("holds", [1, 0.5, np.array([True, True]), "yes", None])
def test_holds_must_be_a_bool(holds) -> None:
    with pytest.raises(TypeError, match="holds must be a bool"):
        claim("anything", holds)


def test_the_statement_must_say_something() -> None:
    with pytest.raises(TypeError, match="statement"):
        claim("  ", True)
