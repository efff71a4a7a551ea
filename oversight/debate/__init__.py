"""Debate: two players argue for precommitted answers before a weak judge (Irving et al. 2018).

`digits` holds the sparse-pixel judge on scikit-learn's 8×8 digits; `digits_game` the pixel-revealing
debaters and the game. The `digits_debate` protocol wires them into a run.
"""
