"""IAM errors as AWS spells them (codes and HTTP statuses from the model's error shapes; messages from AWS's
answers): every error the service sends is built here."""

from __future__ import annotations

import re

from broker.errors import ServiceError

# Characters an XML 1.0 document cannot carry, even escaped: echoed values show them as \uXXXX instead.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def shown(text: str) -> str:
    """A value of the request as an error message may echo it."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- ValidationError (AWS's request validation) -------------------------------------------------------------------
def validation(problems: list[str]) -> ServiceError:
    """AWS's request validation, every problem found: "N validation error(s) detected: <p1>; <p2>"."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return ServiceError("ValidationError", f"{count} validation {noun} detected: {'; '.join(problems)}")


# -- NoSuchEntity ----------------------------------------------------------------------------------------------------
def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, status=404)


def no_such_role(name: str) -> ServiceError:
    return no_such_entity(f"The role with name {name} cannot be found.")


def no_such_user(name: str) -> ServiceError:
    return no_such_entity(f"The user with name {name} cannot be found.")


def no_such_group(name: str) -> ServiceError:
    return no_such_entity(f"The group with name {name} cannot be found.")


def no_such_instance_profile(name: str) -> ServiceError:
    return no_such_entity(f"Instance Profile {name} cannot be found.")


def no_such_policy(arn: str) -> ServiceError:
    return no_such_entity(f"Policy {shown(arn)} was not found.")


def policy_not_attachable(arn: str) -> ServiceError:
    return no_such_entity(f"Policy {shown(arn)} does not exist or is not attachable.")


def boundary_not_attachable(arn: str) -> ServiceError:
    return no_such_entity(f"Scope ARN: {shown(arn)} does not exist or is not attachable.")


def no_such_policy_version(arn: str, version: str) -> ServiceError:
    return no_such_entity(f"Policy {shown(arn)} version {shown(version)} does not exist or is not attachable.")


def no_such_inline_policy(kind: str, name: str) -> ServiceError:
    return no_such_entity(f"The {kind} policy with name {shown(name)} cannot be found.")


def no_such_access_key(key_id: str) -> ServiceError:
    return no_such_entity(f"The Access Key with id {shown(key_id)} cannot be found.")


# -- EntityAlreadyExists ---------------------------------------------------------------------------------------------
def role_exists(name: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", f"Role with name {name} already exists.", status=409)


def user_exists(name: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", f"User with name {name} already exists.", status=409)


def group_exists(name: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", f"Group with name {name} already exists.", status=409)


def instance_profile_exists(name: str) -> ServiceError:
    return ServiceError("EntityAlreadyExists", f"Instance Profile {name} already exists.", status=409)


def policy_exists(name: str) -> ServiceError:
    return ServiceError(
        "EntityAlreadyExists", f"A policy called {name} already exists. Duplicate names are not allowed.", status=409
    )


# -- DeleteConflict --------------------------------------------------------------------------------------------------
def delete_conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, status=409)


def must_detach_policies() -> ServiceError:
    return delete_conflict("Cannot delete entity, must detach all policies first.")


def must_delete_inline_policies() -> ServiceError:
    return delete_conflict("Cannot delete entity, must delete policies first.")


def must_delete_access_keys() -> ServiceError:
    return delete_conflict("Cannot delete entity, must delete access keys first.")


def must_remove_users() -> ServiceError:
    return delete_conflict("Cannot delete entity, must remove users from group first.")


def must_remove_roles() -> ServiceError:
    return delete_conflict("Cannot delete entity, must remove roles from instance profile first.")


def policy_attached() -> ServiceError:
    return delete_conflict("Cannot delete a policy attached to entities.")


def policy_has_versions() -> ServiceError:
    return delete_conflict(
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions."
        " The default version is deleted with the policy."
    )


def default_version_delete() -> ServiceError:
    return delete_conflict("Cannot delete the default version of a policy.")


# -- LimitExceeded ---------------------------------------------------------------------------------------------------
def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceeded", message, status=409)


def quota(name: str, limit: int) -> ServiceError:
    """IAM's quota wording: "Cannot exceed quota for AccessKeysPerUser: 2"."""
    return limit_exceeded(f"Cannot exceed quota for {name}: {limit}")


def too_many_versions() -> ServiceError:
    return limit_exceeded(
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing"
        " version."
    )


def inline_policy_too_large(limit: int, kind: str, name: str) -> ServiceError:
    return limit_exceeded(f"Maximum policy size of {limit} bytes exceeded for {kind} {name}")


# -- MalformedPolicyDocument -----------------------------------------------------------------------------------------
def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message)


# -- InvalidInput ----------------------------------------------------------------------------------------------------
def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message)


def invalid_arn(arn: str) -> ServiceError:
    return invalid_input(f"ARN {shown(arn)} is not valid.")


def duplicate_tag_keys() -> ServiceError:
    return invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def invalid_marker() -> ServiceError:
    return invalid_input("Invalid Marker.")


# -- UnmodifiableEntity ----------------------------------------------------------------------------------------------
def aws_managed_policy(arn: str) -> ServiceError:
    """A change to a policy of the `aws` account (AWS refuses it: the policy is not the caller's)."""
    return ServiceError("UnmodifiableEntity", f"Cannot modify the AWS managed policy {shown(arn)}.")
