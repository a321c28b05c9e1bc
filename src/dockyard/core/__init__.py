"""Settings, the error hierarchy and the name/format rules shared by every layer."""
