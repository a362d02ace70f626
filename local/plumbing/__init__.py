"""The event sources behind `local.event_plumbing.EventPlumbing`, one per kind of trigger, and
the Lambda service behaviours they share (`lambda_semantics`)."""
