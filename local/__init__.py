"""The local stack (``make run``): the whole backend on one machine, on an embedded AWS (moto),
with the event delivery Lambda and API Gateway give it on AWS. Not deployed; see
docs/local-stack.md."""
