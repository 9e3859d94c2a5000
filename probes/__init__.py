"""The browser stage: find a company's contact form, fill it as the persona, submit, prove it."""
