"""Debate on 8×8 digits: two players argue for precommitted labels before a sparse-pixel judge (Irving et al. 2018).

`pixels` holds the data and the sparse-pixel judge; `game` the pixel-revealing debaters and the
game; `run` the cached stages of one seed. The `digits_debate` protocol wires them into a run.
"""
