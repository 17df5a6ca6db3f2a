"""The studio as an OpenAI-compatible image endpoint (/v1/) for the team's scripts, notebooks
and chat front-ends: `tokens` are the personal API tokens they authenticate with, `openai_api`
speaks OpenAI's Images protocol (request parameters, response and error shapes, streamed
events) and waits for the job. Requests go through the same job engine as the web pages, so
every image lands in the gallery with its prompt, cost and Content Credentials."""
