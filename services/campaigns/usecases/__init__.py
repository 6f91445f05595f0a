"""The managers' and the public's use cases: each write is one transaction that loads the campaign,
checks its version, applies a domain action, saves it and records its `campaign.*` event. They raise
domain exceptions (`RuleViolation`, `CampaignNotFound`, `StaleVersion`…), never HTTP problems."""
