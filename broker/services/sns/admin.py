"""/_broker/sns/*: the signing certificate (SigningCertURL), the outbox of email/SMS/push deliveries, and the SMS
state only a phone's owner or AWS support could change (test mode)."""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel

from broker.admin.guards import require_test_mode
from broker.services.base import Env
from broker.services.sns import sms, store
from broker.services.sns.signing import Signer


class SmsChange(BaseModel):
    account: str = ""
    region: str = ""
    opt_out: str = ""  # a phone number to opt out of SMS
    in_sandbox: bool | None = None


def router(env: Env, signer: Signer) -> APIRouter:
    r = APIRouter(prefix="/_broker/sns", tags=["sns"])

    @r.get("/SimpleNotificationService-{cert_id}.pem")
    async def certificate(cert_id: str) -> Response:
        if cert_id != signer.cert_id:
            raise HTTPException(404, "no such certificate")
        return Response(signer.cert_pem, media_type="application/x-pem-file")

    @r.get("/outbox")
    async def outbox(
        topic_arn: str = "",
        subscription_arn: str = "",
        protocol: str = "",
        endpoint: str = "",
        account: str = "",
        region: str = "",
        after: int = 0,
        limit: int = 1000,
    ) -> dict[str, object]:
        """What email, email-json, SMS and mobile push deliveries would have sent, oldest first."""
        filters = {
            "topic_arn": topic_arn,
            "subscription_arn": subscription_arn,
            "protocol": protocol,
            "endpoint": endpoint,
            "account": account,
            "region": region,
        }
        rows = await env.db.read(store.outbox, filters, after, min(max(limit, 1), 10_000))
        return {"messages": [{**r, "message": json.loads(r["message"])} for r in rows]}

    @r.delete("/outbox")
    async def clear_outbox() -> dict[str, object]:
        return {"deleted": await env.db.write(store.clear_outbox)}

    @r.post("/sms")
    async def sms_state(change: SmsChange) -> dict[str, object]:
        """What only a phone's owner (STOP) or AWS support can change: opt a number out, the SMS sandbox."""
        require_test_mode(env.settings)
        account = change.account or env.settings.default_account
        region = change.region or env.settings.default_region
        if change.opt_out:
            if not re.fullmatch(r"\+?[0-9]{7,15}", change.opt_out):
                raise HTTPException(400, "opt_out must be a phone number in E.164 form")
            await env.db.write(sms.opt_out, account, region, change.opt_out)
        if change.in_sandbox is not None:
            await env.db.write(sms.set_sms_sandbox, account, region, change.in_sandbox)
        return {"account": account, "region": region}

    return r
