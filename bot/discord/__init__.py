"""The Discord adapter: HTTP interactions, component and modal rendering, the Discord sender."""
