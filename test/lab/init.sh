#!/bin/bash
# /init of an l2tpsecd lab guest (User-Mode Linux, no systemd). It mounts the
# hostfs share named on the kernel command line, configures the network from
# the command line, loads the IPsec/L2TP/PPP modules and then runs every
# command file the host drops into /lab/cmd, writing the output and exit code
# back into /lab/out.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock /run/xl2tpd /run/pluto /var/log
for w in $(cat /proc/cmdline); do
	case "$w" in
	lab.share=*) SHARE="${w#lab.share=}" ;;
	lab.addr=*) ADDR="${w#lab.addr=}" ;;
	lab.gw=*) GW="${w#lab.gw=}" ;;
	lab.name=*) NAME="${w#lab.name=}" ;;
	esac
done
mkdir -p /lab
if ! mount -t hostfs none /lab -o "$SHARE"; then
	echo "lab: cannot mount the hostfs share $SHARE"
	poweroff -f
fi
hostname "$NAME"
echo "127.0.0.1 localhost $NAME" >/etc/hosts
ip link set lo up
ip link set vec0 up
ip addr add "$ADDR" dev vec0
ip route add default via "$GW"
for m in af_key xfrm_user esp4 xfrm4_tunnel l2tp_core l2tp_ppp ppp_generic slhc pppox; do
	modprobe "$m" || echo "lab: modprobe $m failed"
done
mkdir -p /lab/cmd /lab/out /lab/log
echo ok >/lab/ready.tmp && mv /lab/ready.tmp /lab/ready
echo "lab: guest $NAME ready"
# The idle loop forks nothing (process creation is what costs most under
# User-Mode Linux): read -t on a FIFO nobody writes is bash's sleep.
mkfifo /run/lab-tick
exec 3<>/run/lab-tick
shopt -s nullglob
declare -A started
while :; do
	for f in /lab/cmd/*.sh; do
		[ -n "${started[$f]}" ] && continue
		started[$f]=1
		n="${f##*/}"
		n="${n%.sh}"
		# The host reads the exit code once the file ends in a newline
		# (one write), so no rename is needed.
		{
			sh "$f" >"/lab/out/$n.out" 2>&1 </dev/null
			echo $? >"/lab/out/$n.rc"
		} &
	done
	read -r -t 0.05 -u 3 _
done
