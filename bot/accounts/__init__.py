"""Accounts: the front door. Onboarding, staff and invites, classes and their join codes, account linking,
class group chats, the menu, help, and the consent gate."""
