"""Learning: the five topics, lessons card by card, practice quizzes, progress, and the quiz engine they share."""
