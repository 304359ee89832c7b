"""A small user package for `crosscheck --against`: models written as a team would write them."""
