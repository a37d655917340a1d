"""Broadcasts: a class's page and roster, lessons and quizzes sent to classes, their sender, what a student was
assigned, and lesson posts in class groups."""
