"""Indicators: de-obfuscation and extraction of invite links, phone numbers, e-mails, onion addresses and URLs."""
