"""The compliance domain: the CIS Docker engine, evaluation results, posture, exceptions and evidence."""
