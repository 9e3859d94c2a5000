from __future__ import annotations

import pytest

from audit.tokens import ALPHABET, new_token, reference_code, tokens_in_address, tokens_in_text


def test_new_tokens_use_the_unambiguous_alphabet() -> None:
    tokens = {new_token() for _ in range(500)}
    assert len(tokens) == 500
    assert all(len(t) == 8 and set(t) <= set(ALPHABET) for t in tokens)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("survey+k3x9q2ab@replies.example.com", ["k3x9q2ab"]),
        ("<Survey+K3X9Q2AB@Replies.Example.com>", ["k3x9q2ab"]),
        ("k3x9q2ab@replies.example.com", ["k3x9q2ab"]),
        ("survey@replies.example.com", []),
        ("survey+short@replies.example.com", []),
        ("survey+k3x9q2a0@replies.example.com", []),  # 0 is not in the alphabet
    ],
)
def test_tokens_in_address(address: str, expected: list[str]) -> None:
    assert tokens_in_address(address) == expected


def test_reference_code_round_trips_through_text_in_any_case() -> None:
    code = reference_code("k3x9q2ab")
    assert code == "CA-K3X9Q2AB"
    assert tokens_in_text(f"Re: your request ({code.lower()}) and again {code}") == ["k3x9q2ab"]
    assert tokens_in_text("מספר פנייה: CA-K3X9Q2AB, תודה") == ["k3x9q2ab"]
    assert tokens_in_text("ECA-K3X9Q2AB1") == []
