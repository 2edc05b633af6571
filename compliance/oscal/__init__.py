"""OSCAL export: assessment results and POA&M built with compliance-trestle's models."""
