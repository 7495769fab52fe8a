"""Language: text normalisation, the n-gram language model, phones, and TextPC's word concealment."""
