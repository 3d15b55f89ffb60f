"""moto_server with one of moto 5.2.5's CloudFormation gaps closed, for archc's deploy tests.

moto's `AWS::KMS::Key` handler passes the template's `Tags` (CloudFormation's `Key`/`Value`
pairs, as AWS documents them and cfn-lint checks) straight to the KMS API model, which expects
`TagKey`/`TagValue`: CreateStack answers HTTP 500 (`KeyError: 'TagKey'`) for any stack with a
tagged key, where AWS creates it. This translates the pairs, then runs moto_server unchanged.
Run with the Python of moto's virtualenv: `python serve.py -H 127.0.0.1 -p PORT`.
"""

import sys

from moto.kms import models

_create = models.Key.create_from_cloudformation_json.__func__


def _create_with_cloudformation_tags(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties", {})
    tags = properties.get("Tags")
    if tags:
        properties["Tags"] = [
            {"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t for t in tags
        ]
    return _create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


models.Key.create_from_cloudformation_json = classmethod(_create_with_cloudformation_tags)

from moto.server import main  # noqa: E402

sys.exit(main())
