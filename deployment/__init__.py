"""Deploying the lake: the CloudFormation templates as shipped, the code packages, and the stacks (AWS or moto)."""
