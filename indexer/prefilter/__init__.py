"""Which files a rule can match at all, answered from the token postings."""
