"""The lists that can be exported, each as its page shows it (see `delivery.ListExport`)."""
