"""Ký cam kết: pledges a district or a school publishes for the school year, read and confirmed in the chat by
students and, for their child, by parents; tallied by class and school, printed, reminded, and reported."""
