"""dissemination"""
