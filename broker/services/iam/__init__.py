"""AWS IAM: roles, users, access keys, inline and managed policies. Stored and returned, never enforced."""
