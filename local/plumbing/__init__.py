"""The machinery behind `local.event_plumbing.EventPlumbing`: one event
source per kind of trigger, and the Lambda service behaviours they share."""
