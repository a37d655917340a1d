"""Runtime pieces shared by the platform channels: the durable inbox and its worker."""
