"""Charts and the standalone board report, shared by the dashboard pages and `tandem report`."""
