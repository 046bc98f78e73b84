/* SPDX-License-Identifier: MIT */
/* An empty program. meson.build links each folder's library into it whole, with only the
 * folders that folder may use: a call the wrong way (reader -> daemon, daemon -> cli) leaves
 * a symbol undefined and fails the build. */
int main(void)
{
	return 0;
}
