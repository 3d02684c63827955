"""The members service's use cases: plain functions that take validated input and a ``Context``
(who asks, the tree as it is now, the keys), apply the domain's rules, write with their events and
return the result. No Flask here: views parse, call one of these, and dump; tests call them directly.
Refusals are ``shared.errors`` kinds, which the web layer turns into the one error shape."""
