"""Ownership: who is responsible and accountable for each digital capability, the governance
bodies, the benchmark against the Forrester survey, and findings that say what is wrong and why."""
