"""HTTP plumbing shared by every router: errors, the permission guard, body limits."""
