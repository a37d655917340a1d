"""The live festival round: everyone on the same question on a server schedule, the standings on a big screen."""
